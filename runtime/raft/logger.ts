// The logger interface of the core. The core logs through this interface only; the runtime
// plugs in its own logger, and the datadriven tests capture lines into their output.
//
// This file must not write anywhere by itself: the default logger discards everything.

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A logger that drops every line. The core's default. */
export const discardLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger that hands every line at or above `level` to `sink`, prefixed with the level in
 * upper case ("INFO 1 became leader at term 2"). Used by the datadriven harness.
 */
export function levelLogger(level: LogLevel, sink: (line: string) => void): Logger {
  const at = (l: LogLevel) => (msg: string) => {
    if (LEVEL_RANK[l] >= LEVEL_RANK[level]) sink(`${l.toUpperCase()} ${msg}`);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
