import type { UseQueryResult } from '@tanstack/react-query';
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { describeError } from '../auth/session';

/** An inline error with a retry: every panel fails on its own, never the whole page. */
export function InlineError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="panel-error" role="alert">
      <span>{describeError(error)}</span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** Renders a query's data, or its loading state, or its error with a retry. */
export function QueryView<T>({
  query,
  children,
  loading = 'Loading…',
}: {
  query: UseQueryResult<T>;
  children: (data: T) => ReactNode;
  loading?: ReactNode;
}) {
  if (query.isPending) {
    return (
      <div className="muted" role="status">
        {loading}
      </div>
    );
  }
  if (query.isError) return <InlineError error={query.error} onRetry={() => void query.refetch()} />;
  return <>{children(query.data)}</>;
}

/** Catches a render error of one panel and offers to draw it again. */
export class PanelBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error(error, info.componentStack);
  }

  override render() {
    if (this.state.error) {
      return <InlineError error={this.state.error} onRetry={() => this.setState({ error: null })} />;
    }
    return this.props.children;
  }
}
