import pino from 'pino';
import { activeTraceId } from './tracing';

export type Logger = pino.Logger;

/** Structured JSON logs; every line carries the node id and role. Secrets are redacted by path. */
export function createLogger(options: { nodeId: string; role: string; level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { nodeId: options.nodeId, role: options.role },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['token', '*.token', 'ticket', '*.ticket', 'authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret', 'password', '*.password'], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      // Lines written inside a task's span carry its trace id, to jump from a log line to the trace.
      mixin: () => {
        const traceId = activeTraceId();
        return traceId ? { traceId } : {};
      },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** A logger that writes nothing (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
