import type { LeaderFence } from '../store';

/** Whether this principal currently leads, and under which term. */
export interface Leadership {
  isLeader(): boolean;
  readonly term: number;
  /** The leader as this principal knows it. */
  leader(): { id: string; term: number } | null;
  /** The fence leader-only writes carry; null when not leader. */
  fence(): LeaderFence | null;
}
