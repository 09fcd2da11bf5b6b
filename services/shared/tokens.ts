import type { InjectionToken } from 'tsyringe';
import type { Pool } from '../../db/src/pool';
import type { CommonConfig } from './config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

/** Injection tokens for things that are not classes. Only main.ts files register them. */
export const TOKENS = {
  /** The process's own configuration; all that every process has in common is CommonConfig. */
  Config: Symbol('Config') as InjectionToken<CommonConfig>,
  Logger: Symbol('Logger') as InjectionToken<Logger>,
  Metrics: Symbol('Metrics') as InjectionToken<Metrics>,
  Pool: Symbol('Pool') as InjectionToken<Pool>,
} as const;
