// Placeholder replaced by the pool issue.
import type { ParentChannel, PoolJob } from '../backends/types.ts';
export async function runPoolWorker(_job: PoolJob, _channel: ParentChannel): Promise<void> {}
