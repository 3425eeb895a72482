// The device the engine tests run on: EARMARK_TEST_DEVICE (default 'cpu'), so a GPU check can run
// the same suites with EARMARK_TEST_DEVICE=cuda. A CUDA request on a CPU-only libtorch fails loudly.
import { resolveDevice } from '../tensor/device.js';

export function testDevice(): string {
  return resolveDevice(process.env['EARMARK_TEST_DEVICE'] ?? 'cpu', 'EARMARK_TEST_DEVICE');
}
