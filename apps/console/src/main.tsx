import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, errorText } from './api/client';
import { App } from './App';
import { initAuth } from './auth';
import { loadConsoleConfig } from './console-config';
import { mark } from './perf';
import './styles.css';

const root = createRoot(document.getElementById('root')!);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      // A 4xx answer will not change by asking again; a network error or 503 may.
      retry: (count, e) => count < 2 && !(e instanceof ApiError && e.status < 500),
    },
  },
});

async function start(): Promise<void> {
  try {
    mark('start');
    const config = await loadConsoleConfig();
    const auth = await initAuth(config);
    mark('auth-ready');
    root.render(
      <StrictMode>
        <QueryClientProvider client={queryClient}>
          <App config={config} auth={auth} queryClient={queryClient} />
        </QueryClientProvider>
      </StrictMode>,
    );
  } catch (e) {
    root.render(
      <main className="page">
        <h1>OTAO console</h1>
        <p role="alert" className="error">
          The console could not start: {errorText(e)}
        </p>
      </main>,
    );
  }
}
void start();
