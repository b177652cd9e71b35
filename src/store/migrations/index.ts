import { migration001 } from './001-tasks';
import { migration002 } from './002-node-reputation';
import { migration003 } from './003-unpublished-index';
import { migration004 } from './004-scheduled-tasks';
import { migration005 } from './005-schedules';
import { migration006 } from './006-workflows';
import { migration007 } from './007-dead-letters';
import { migration008 } from './008-node-controls';
import { migration009 } from './009-retention';
import { migration010 } from './010-tenancy';
import { migration011 } from './011-attempt-log';
import { migration012 } from './012-models';

export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Every migration, in order. Append; never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007, migration008, migration009, migration010, migration011, migration012];
