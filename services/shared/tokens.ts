import type { InjectionToken } from 'tsyringe';
import type { Pool } from '../../db/src/pool';
import type { AppConfig } from './config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

/** Injection tokens for things that are not classes. Only main.ts files register them. */
export const TOKENS = {
  Config: Symbol('Config') as InjectionToken<AppConfig>,
  Logger: Symbol('Logger') as InjectionToken<Logger>,
  Metrics: Symbol('Metrics') as InjectionToken<Metrics>,
  Pool: Symbol('Pool') as InjectionToken<Pool>,
} as const;
