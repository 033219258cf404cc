/** A leveled logger writing one line per event to stderr; passed to every service by the composition root. */
import { randomUUID } from 'node:crypto';
import type { LogLevel } from './config.ts';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(level: LogLevel, scope = 'vigil'): Logger {
  const threshold = ORDER[level];
  const write = (at: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < threshold) return;
    const extra = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields, errorReplacer)}` : '';
    process.stderr.write(`${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} [${scope}] ${message}${extra}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (child) => createLogger(level, `${scope}:${child}`),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}

/**
 * Logs an unexpected failure whole under a new error id and returns the id, for the client's answer:
 * the client sees the id and a message written for it, the log keeps the exception.
 */
export function logUnexpected(
  logger: Logger,
  message: string,
  error: unknown,
  context: Record<string, unknown> = {},
): string {
  const errorId = randomUUID();
  logger.error(message, { errorId, ...context, error });
  return errorId;
}
