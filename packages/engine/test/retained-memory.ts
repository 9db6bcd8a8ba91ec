// Memory tests measure what stays reachable: what a computation holds, garbage aside (RSS counts garbage not yet collected).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/**
 * MB reachable after a full collection: the heap and the array buffers (typed arrays' data lives outside the heap). Two
 * collections: V8 frees dead array buffers concurrently after one, and the next one waits for that to finish (with one,
 * the same training counted 12 or 33 MB).
 */
export function retainedMb(): number {
  collect();
  collect();
  const usage = process.memoryUsage();
  return (usage.heapUsed + usage.arrayBuffers) / 2 ** 20;
}
