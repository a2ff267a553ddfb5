/**
 * A file provider (issue 16, memory-mapped files): a user-level, VFS-like component whose files
 * are byte arrays. The kernel (or a dataspace manager) reads a faulting page of a mapped file
 * from it and writes dirty pages back on eviction, unmap or msync.
 *
 * Files are stored sparsely by page, so a large file touched in a few places costs a few pages;
 * bytes never written read as zero. Two write flavours: `write` extends the file like pwrite;
 * `writeBack` is what a memory mapping does, writing only the bytes inside the file (the tail of
 * a mapped page beyond the end of the file is not written, as POSIX mmap specifies).
 */
import { err, ok, type Result } from '../util/result.js';

/** Error codes of the file provider. */
export type FileErrorCode = 'FILE_EXISTS' | 'NO_SUCH_FILE' | 'BAD_HANDLE' | 'INVALID_ARGUMENT';

/** Counters of a file provider. */
export interface FileProviderStats {
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
}

interface File {
  readonly path: string;
  size: number;
  /** Page index -> page bytes, only pages ever written. */
  readonly pages: Map<number, Uint8Array>;
}

/** Largest single read or write (a bound on allocation, far above a page). */
const MAX_IO = 2 ** 30;

/** A VFS-like store of files by path, opened by numeric handles. */
export class FileProvider {
  readonly stats: FileProviderStats = { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0 };
  private readonly byPath = new Map<string, number>();
  private readonly files = new Map<number, File>();
  private nextHandle = 1;

  /**
   * @param name display name (e.g. the component's label).
   * @param pageSize granule of storage (default 4 KiB); affects memory use only.
   */
  constructor(
    readonly name = 'vfs',
    readonly pageSize = 4096,
  ) {}

  /** Creates a file of `size` zero bytes; its handle stays valid until the file is removed. */
  create(path: string, size = 0): Result<number, FileErrorCode> {
    if (path === '' || path.includes('\0'))
      return err('INVALID_ARGUMENT', `${this.name}: '${path}' is not a file name`);
    if (!Number.isSafeInteger(size) || size < 0)
      return err('INVALID_ARGUMENT', `${this.name}: size ${size}, expected an integer >= 0`);
    if (this.byPath.has(path)) return err('FILE_EXISTS', `${this.name}: ${path} exists`);
    const h = this.nextHandle++;
    this.byPath.set(path, h);
    this.files.set(h, { path, size, pages: new Map() });
    return ok(h);
  }

  /** The handle of an existing file. */
  open(path: string): Result<number, 'NO_SUCH_FILE'> {
    const h = this.byPath.get(path);
    return h === undefined ? err('NO_SUCH_FILE', `${this.name}: no file ${path}`) : ok(h);
  }

  /** Removes a file; its handle becomes invalid. */
  remove(path: string): Result<void, 'NO_SUCH_FILE'> {
    const h = this.byPath.get(path);
    if (h === undefined) return err('NO_SUCH_FILE', `${this.name}: no file ${path}`);
    this.byPath.delete(path);
    this.files.delete(h);
    return ok(undefined);
  }

  /** Every path, sorted. */
  list(): string[] {
    return [...this.byPath.keys()].sort();
  }

  /** Size in bytes. */
  size(handle: number): Result<number, 'BAD_HANDLE'> {
    const f = this.files.get(handle);
    return f ? ok(f.size) : this.badHandle(handle);
  }

  /** Pages holding written data (for memory figures). */
  pagesStored(handle: number): number {
    return this.files.get(handle)?.pages.size ?? 0;
  }

  /** Sets the size: shrinking drops the bytes beyond it, growing adds zeros. */
  truncate(handle: number, size: number): Result<void, FileErrorCode> {
    const f = this.files.get(handle);
    if (!f) return this.badHandle(handle);
    if (!Number.isSafeInteger(size) || size < 0)
      return err('INVALID_ARGUMENT', `${this.name}: size ${size}, expected an integer >= 0`);
    if (size < f.size) {
      const keep = Math.ceil(size / this.pageSize);
      for (const p of [...f.pages.keys()]) if (p >= keep) f.pages.delete(p);
      const last = f.pages.get(Math.floor(size / this.pageSize));
      if (last) last.fill(0, size % this.pageSize);
    }
    f.size = size;
    return ok(undefined);
  }

  /** Reads `length` bytes at `offset`; bytes at or past the end of the file read as zero. */
  read(handle: number, offset: number, length: number): Result<Uint8Array, FileErrorCode> {
    const f = this.files.get(handle);
    if (!f) return this.badHandle(handle);
    const bad = this.checkRange(offset, length);
    if (bad) return bad;
    const out = new Uint8Array(length);
    const end = Math.min(offset + length, f.size);
    this.forPages(offset, end, (page, from, to, at) => {
      const bytes = f.pages.get(page);
      if (bytes) out.set(bytes.subarray(from, to), at);
    });
    this.stats.reads++;
    this.stats.bytesRead += length;
    return ok(out);
  }

  /** Writes `data` at `offset`, extending the file if it ends beyond it (pwrite). */
  write(handle: number, offset: number, data: Uint8Array): Result<void, FileErrorCode> {
    const f = this.files.get(handle);
    if (!f) return this.badHandle(handle);
    const bad = this.checkRange(offset, data.length);
    if (bad) return bad;
    this.store(f, offset, data);
    // Like pwrite, writing nothing does not extend the file.
    if (data.length > 0) f.size = Math.max(f.size, offset + data.length);
    return ok(undefined);
  }

  /**
   * Writes back a memory-mapped page (or range): only the bytes inside the file are written, the
   * file never grows. Returns the number of bytes written.
   */
  writeBack(handle: number, offset: number, data: Uint8Array): Result<number, FileErrorCode> {
    const f = this.files.get(handle);
    if (!f) return this.badHandle(handle);
    const bad = this.checkRange(offset, data.length);
    if (bad) return bad;
    const n = Math.max(0, Math.min(data.length, f.size - offset));
    this.store(f, offset, data.subarray(0, n));
    return ok(n);
  }

  private store(f: File, offset: number, data: Uint8Array): void {
    this.forPages(offset, offset + data.length, (page, from, to, at) => {
      let bytes = f.pages.get(page);
      if (!bytes) {
        bytes = new Uint8Array(this.pageSize);
        f.pages.set(page, bytes);
      }
      bytes.set(data.subarray(at, at + (to - from)), from);
    });
    this.stats.writes++;
    this.stats.bytesWritten += data.length;
  }

  /** Calls fn(page, fromInPage, toInPage, offsetInBuffer) for each page piece of [start, end). */
  private forPages(
    start: number,
    end: number,
    fn: (page: number, from: number, to: number, at: number) => void,
  ): void {
    for (let pos = start; pos < end; ) {
      const page = Math.floor(pos / this.pageSize);
      const from = pos - page * this.pageSize;
      const to = Math.min(this.pageSize, end - page * this.pageSize);
      fn(page, from, to, pos - start);
      pos += to - from;
    }
  }

  private checkRange(offset: number, length: number): Result<never, 'INVALID_ARGUMENT'> | null {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(offset + length))
      return err('INVALID_ARGUMENT', `${this.name}: offset ${offset}, expected an integer >= 0`);
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_IO)
      return err(
        'INVALID_ARGUMENT',
        `${this.name}: ${length} bytes, expected an integer from 0 to ${MAX_IO}`,
      );
    return null;
  }

  private badHandle(handle: number): Result<never, 'BAD_HANDLE'> {
    return err('BAD_HANDLE', `${this.name}: ${handle} is not an open file handle`);
  }
}
