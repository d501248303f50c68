import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Streams into a new file through a temporary name, so a half-written download never looks complete; returns its size. */
export async function streamToFileAtomically(source: Readable, outFile: string): Promise<number> {
  const target = path.resolve(outFile);
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.partial`;
  try {
    await pipeline(source, createWriteStream(tmp));
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return (await stat(target)).size;
}
