/** Preact hooks over the Api: a query's state, and a subscription's events while a component is shown. */
import type { TadaDocumentNode } from 'gql.tada';
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api.ts';

export const ApiContext = createContext<Api | null>(null);

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside the signed-in app');
  return api;
}

export interface QueryState<R> {
  data: R | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): void;
}

/** runs `document` whenever the JSON of `variables` or `refresh` changes (and on reload) */
export function useQuery<R, V>(document: TadaDocumentNode<R, V>, variables: V, refresh?: unknown): QueryState<R> {
  const api = useApi();
  const [state, setState] = useState<{ data?: R; error?: Error; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    api.request(document, variables).then(
      (data) => current && setState({ data, loading: false }),
      (error: Error) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [api, document, key, generation, refresh]);
  return { data: state.data, error: state.error, loading: state.loading, reload: () => setGeneration((g) => g + 1) };
}

/** calls `onData` for each event while mounted; re-subscribes when the JSON of `variables` changes */
export function useSubscription<R, V>(document: TadaDocumentNode<R, V>, variables: V, onData: (data: R) => void) {
  const api = useApi();
  const handler = useRef(onData);
  handler.current = onData;
  const key = JSON.stringify(variables);
  useEffect(() => api.subscribe(document, variables, (data) => handler.current(data)), [api, document, key]);
}
