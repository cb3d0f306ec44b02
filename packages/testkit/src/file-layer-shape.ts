// The shape of @homedb/log's FileLayer, declared here so that the kit depends on no package it helps to test: the
// log's own tests use it, and the package graph stays one way. TypeScript is structural, so every layer made here
// is checked against the real `FileLayer` where a test hands it to `openLog`.

/** Open modes: `'r'` read, `'r+'` read and write an existing file, `'wx'` create exclusively. */
export type OpenMode = 'r' | 'r+' | 'wx'

/** Flags of `open` (the log's `OpenOptions`): `dsync` asks for writes that are durable when they resolve. */
export interface OpenOptions {
  readonly dsync?: boolean
}

/** An open file with positional I/O (the log's `FileHandleLike`). */
export interface FileHandleLike {
  /** `true` when every write is durable once it resolves (opened with `{ dsync: true }` by a layer that honours it). */
  readonly dsync?: boolean
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>
  /** Optional: the same write, done before it returns (the log uses it to write a batch on the event loop). */
  writeSync?(buffer: Uint8Array, offset: number, length: number, position: number): number
  datasync(): Promise<void>
  sync(): Promise<void>
  truncate(length: number): Promise<void>
  size(): Promise<number>
  close(): Promise<void>
}

/** Every file operation the log performs (the log's `FileLayer`). */
export interface FileLayer {
  open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandleLike>
  readdir(dir: string): Promise<string[]>
  mkdir(dir: string): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  syncDir(dir: string): Promise<void>
  size(path: string): Promise<number | undefined>
  watch?(dir: string, onChange: () => void): { close(): void }
}
