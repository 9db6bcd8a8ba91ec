// The few parts of autocannon's API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url?: string;
      method?: string;
      body?: string | Buffer;
      headers?: Record<string, string>;
      connections?: number;
      duration?: number;
      /** Requests per second over all connections (default: as fast as possible). */
      overallRate?: number;
    }
    interface Result {
      requests: { average: number };
      latency: { p50: number; p99: number; average: number };
      non2xx: number;
      errors: number;
    }
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
