/**
 * The Rainforest Eagle simulator for tests. Its core lives in adapters/rainforest/simulator.ts so
 * the build (which leaves test/ out) ships it for `npm run demo` too.
 */
export { DEFAULT_SIMULATOR_METER, startEagleSimulator } from '../../adapters/rainforest/simulator';
export type { EagleFault, EagleSimulator, EagleSimulatorOptions, SimulatedMeter, SimulatedRequest } from '../../adapters/rainforest/simulator';
