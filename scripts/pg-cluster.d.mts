/** Types of scripts/pg-cluster.mjs (a plain script so it runs without a build). */
export declare const DEFAULT_BIN: string
export declare const DEFAULT_PORT: number
export declare const DEFAULT_DIR: string
export declare function hasBinaries(bin?: string): Promise<boolean>
export declare function assertPortFree(port: number): Promise<void>
export declare function findFreePort(from?: number, attempts?: number): Promise<number>
export interface Cluster {
  url: string
  dir: string
  port: number
  stop(): Promise<void>
}
export declare function start(options?: { dir?: string; port?: number; bin?: string }): Promise<Cluster>
export declare function stop(options?: { dir?: string; bin?: string }): Promise<void>
