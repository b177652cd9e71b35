import type { Joiner } from '../cluster';
import type { AppConfig } from '../config';
import type { HealthState } from '../lifecycle/health';
import type { Service } from '../lifecycle/service';
import type { Logger, Metrics } from '../observability';
import type { TopologyNames } from '../protocol/names';
import type { Database } from '../store';
import type { MessageBus } from '../transport';

/** What every role is built from: the adapters `runNode` set up before any role starts. */
export interface RoleContext {
  config: AppConfig;
  log: Logger;
  metrics: Metrics;
  health: HealthState;
  names: TopologyNames;
  /** A bus with its own codec (and so its own replay guard) for each role. */
  newBus: () => MessageBus;
  /** Issued mode: the admission that gave this node its token. */
  joiner?: Joiner;
}

/** The services of a role that keeps tasks in the database (principal, An). */
export interface StoredRoleContext extends RoleContext {
  db: Database;
}

/** A role's services, in start order; `restPort` once the principal listens. */
export interface RoleServices {
  services: Service[];
  restPort?: () => number;
}
