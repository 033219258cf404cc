/** Every operation the dashboard sends: typed documents (gql.tada) of the public schema. */
import { graphql } from '../../graphql.ts';

export const VIEWER = graphql(`
  query Viewer {
    viewer { anonymous keyName role }
    serverInfo { version databaseProvider eventBus models }
  }
`);

export const ENDPOINTS = graphql(`
  query Endpoints {
    endpoints {
      name
      model
      dataCapture { enabled samplingPercentage captureMode }
      debugHook { enabled includeRegex collections saveInterval }
    }
  }
`);

export const ENDPOINT_SUMMARY = graphql(`
  query EndpointSummary($endpoint: String!) {
    captures(endpoint: $endpoint, first: 200) {
      __typename
      ... on CaptureConnection {
        totalCount
        edges { node { inferenceTime predictedClass label confidence outlierScore } }
      }
    }
    baselines(endpoint: $endpoint) {
      __typename
      ... on BaselineList { baselines { name createdAt classes { classId label share } } }
    }
  }
`);

export const PREDICTIONS = graphql(`
  subscription Predictions($endpoint: String!) {
    predictions(endpoint: $endpoint) { at endpoint predictedClass label confidence latencyMs captureId outlierScore }
  }
`);

export const ALERTS = graphql(`
  subscription Alerts {
    monitorAlerts { at endpoint schedule executionId status message recordCount }
  }
`);

export const ENDPOINT_CHANGED = graphql(`
  subscription EndpointChanged {
    endpointChanged { at kind name }
  }
`);

export const CAPTURES = graphql(`
  query Captures($endpoint: String!, $first: Int, $after: String, $filter: CaptureFilter) {
    captures(endpoint: $endpoint, first: $first, after: $after, filter: $filter) {
      __typename
      ... on VigilError { message }
      ... on CaptureConnection {
        totalCount
        pageInfo { endCursor hasNextPage }
        edges {
          node {
            id
            inferenceTime
            predictedClass
            label
            confidence
            outlierScore
            inputDataUrl
            debugStep { step }
            groundTruth { classId label }
          }
        }
      }
    }
  }
`);

export const CAPTURE = graphql(`
  query Capture($id: ID!, $method: SaliencyMethod!, $classId: Int) {
    capture(id: $id) {
      id
      endpoint
      eventId
      inferenceTime
      modelVersion
      predictedClass
      label
      confidence
      inputDataUrl
      top { classId label probability }
      debugStep {
        step
        tensors { name shape dtype storedBytes }
      }
      groundTruth { classId label receivedAt }
      saliency(method: $method, classId: $classId, size: 256) {
        __typename
        ... on VigilError { message }
        ... on SaliencyMap {
          overlayPng
          heatmapPng
          classId
          label
          completenessResidual
          background { flagged message }
        }
      }
    }
  }
`);

export const SCHEDULES = graphql(`
  query Schedules {
    monitoringSchedules {
      __typename
      ... on MonitoringScheduleList {
        schedules {
          name
          endpoint
          cron
          nextRunAt
          executions(first: 50) {
            __typename
            ... on MonitoringScheduleExecutionList {
              executions {
                id
                status
                message
                recordCount
                windowStart
                windowEnd
                classesChartUrl
                classes { classId label share }
                modelQuality { classes { classId recall } }
                violations { check featureName constraintCheckType description }
              }
            }
          }
        }
      }
    }
  }
`);

export const METRIC = graphql(`
  query Metric($schedule: String!, $name: String!) {
    metrics(schedule: $schedule, name: $name) {
      __typename
      ... on MonitoringMetricSeries { points { timestamp value } }
    }
  }
`);

export const RUN_SCHEDULE = graphql(`
  mutation RunSchedule($name: String!) {
    runMonitoringSchedule(name: $name) {
      __typename
      ... on VigilError { message }
    }
  }
`);

export const UPDATE_ENDPOINT = graphql(`
  mutation UpdateEndpoint($name: String!, $input: UpdateEndpointInput!) {
    updateEndpoint(name: $name, input: $input) {
      __typename
      ... on VigilError { message }
    }
  }
`);

export const CREATE_ADVERSARIAL = graphql(`
  mutation CreateAdversarial($input: CreateAdversarialInput!) {
    createAdversarial(input: $input) {
      __typename
      ... on VigilError { message }
      ... on Adversarial {
        id dataUrl method target originalClass adversarialClass targetConfidence l2 linf iterations success
      }
    }
  }
`);

export const EXPLAIN = graphql(`
  query Explain($image: ImageInput!, $endpoint: String, $classId: Int, $method: SaliencyMethod) {
    explain(image: $image, endpoint: $endpoint, classId: $classId, method: $method, size: 256) {
      __typename
      ... on VigilError { message }
      ... on ImageExplanation { classId label overlayPng completenessResidual background { flagged message } }
    }
  }
`);

export const PREDICT = graphql(`
  mutation Predict($endpoint: String!, $image: ImageInput!) {
    predict(endpoint: $endpoint, image: $image) {
      __typename
      ... on VigilError { message }
      ... on Prediction { predictedClass label confidence captureId }
    }
  }
`);

export const ALERT_CHANNELS = graphql(`
  query AlertChannels {
    alertChannels { name kind url endpoints secretHint }
  }
`);

export const ALERT_DELIVERIES = graphql(`
  query AlertDeliveries($channel: String!) {
    alertDeliveries(channel: $channel, first: 20) {
      __typename
      ... on VigilError { message }
      ... on AlertDeliveryList {
        deliveries { id kind status attemptCount createdAt lastError endpoint }
      }
    }
  }
`);

export const SCHEDULE_SETTINGS = graphql(`
  query ScheduleSettings {
    monitoringSchedules {
      __typename
      ... on VigilError { message }
      ... on MonitoringScheduleList {
        schedules {
          name
          endpoint
          cron
          status
          baseline { name }
          checks {
            minSampleSize
            classShare { enabled threshold }
            lowConfidence { enabled confidenceThreshold maxShare }
            drift { enabled lInfinityThreshold }
            modelQuality { enabled minAccuracy }
          }
        }
      }
    }
  }
`);

export const UPDATE_SCHEDULE = graphql(`
  mutation UpdateSchedule($name: String!, $input: UpdateMonitoringScheduleInput!) {
    updateMonitoringSchedule(name: $name, input: $input) {
      __typename
      ... on VigilError { message }
    }
  }
`);

export const PAUSE_SCHEDULE = graphql(`
  mutation PauseSchedule($name: String!) {
    pauseMonitoringSchedule(name: $name) {
      __typename
      ... on VigilError { message }
    }
  }
`);

export const RESUME_SCHEDULE = graphql(`
  mutation ResumeSchedule($name: String!) {
    resumeMonitoringSchedule(name: $name) {
      __typename
      ... on VigilError { message }
    }
  }
`);
