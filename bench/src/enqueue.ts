/** What enqueuing needs of an app: any store, any Weft. */
interface RunStarter {
  runs: { run(workflowId: string, options: { version: 'draft'; background: true }): Promise<unknown> };
}

/**
 * Enqueues `n` background runs of a workflow's draft, 100 at a time (the untimed set-up of W11 and W12:
 * 100 in flight keeps the store busy without holding 1,000 promises of inserts at once).
 */
export async function enqueueDraftRuns(app: RunStarter, workflowId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, () =>
        app.runs.run(workflowId, { version: 'draft', background: true }),
      ),
    );
  }
}
