/**
 * The environment an external check's process gets, and nothing else: none of the server's own
 * variables (they hold API keys and database URLs), only PATH to find interpreters; Model Monitor's
 * bring-your-own-container variables; and the schedule's `environment` (config.ts keeps it from
 * setting any of the others).
 */
import type { EnvironmentVariable } from './config.ts';

export interface ContractValues {
  datasetSource: string;
  outputPath: string;
  /** the window: start inclusive, end exclusive */
  start: Date;
  end: Date;
  endpointName: string;
  /** the schedule's name; an ad-hoc run's is `ad-hoc-<execution id>` */
  scheduleName: string;
  /** HOME and TMPDIR: the run's own temporary directory */
  workDir: string;
  /** the job's baseline, written as statistics.json and constraints.json; null without one */
  baseline: { statistics: string; constraints: string } | null;
}

/** dataset_format as Model Monitor gives it for data-capture JSON Lines */
export const DATASET_FORMAT = JSON.stringify({
  sagemakerCaptureJson: { captureIndexNames: ['endpointInput', 'endpointOutput'] },
});

export function checkEnvironment(
  contract: ContractValues,
  environment: readonly EnvironmentVariable[],
  serverPath = process.env.PATH,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: serverPath || '/usr/local/bin:/usr/bin:/bin',
    HOME: contract.workDir,
    TMPDIR: contract.workDir,
    LANG: 'C.UTF-8',
    // no __pycache__ written into CHECKS_DIR
    PYTHONDONTWRITEBYTECODE: '1',
  };
  for (const { name, value } of environment) env[name] = value;
  Object.assign(env, {
    dataset_source: contract.datasetSource,
    output_path: contract.outputPath,
    start_time: contract.start.toISOString(),
    end_time: contract.end.toISOString(),
    sagemaker_endpoint_name: contract.endpointName,
    sagemaker_monitoring_schedule_name: contract.scheduleName,
    dataset_format: DATASET_FORMAT,
    publish_cloudwatch_metrics: 'Disabled',
  });
  if (contract.baseline) {
    env.baseline_statistics = contract.baseline.statistics;
    env.baseline_constraints = contract.baseline.constraints;
  }
  return env;
}
