/**
 * How library paths relate to workspace files, without `vscode`: uploads land
 * under `<uploads_dir>/<workspace>/<relative path>` on the server.
 */

/** The server's default library.uploads_dir; the API does not expose it. */
export const UPLOADS_DIR = 'contributed';

/** Workspace names the server accepts: 1-64 letters, digits, dot, dash or underscore. */
export const WORKSPACE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function sanitizeWorkspaceName(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 64);
  return cleaned === '' ? 'default' : cleaned;
}

/** The configured name when valid, else the folder's name made acceptable. */
export function workspaceNameFor(folderName: string, configured: string | undefined): string {
  const wanted = configured?.trim() ?? '';
  if (wanted !== '' && WORKSPACE_NAME.test(wanted)) return wanted;
  return sanitizeWorkspaceName(folderName);
}

export function toPosix(p: string): string {
  return p.replace(/\\/g, '/').replace(/^\.\//, '');
}

export function uploadedLibraryPath(workspace: string, relPath: string): string {
  return `${UPLOADS_DIR}/${workspace}/${toPosix(relPath)}`;
}

export interface FolderRef {
  index: number;
  workspace: string;
}

export interface LocalCandidate {
  folderIndex: number;
  relPath: string;
  /** True when the path was uploaded from this folder: the local copy is the original. */
  uploaded: boolean;
}

/**
 * Where a library file may live in the open workspace, best guess first:
 * `contributed/<ws>/<rel>` back to the folder named <ws>, then the same
 * relative path in each folder, then under a `library/` folder (the server's repo).
 */
export function localCandidates(libraryPath: string, folders: readonly FolderRef[]): LocalCandidate[] {
  const path = toPosix(libraryPath).replace(/^library\//, '');
  const out: LocalCandidate[] = [];
  const parts = path.split('/');
  if (parts.length >= 3 && parts[0] === UPLOADS_DIR) {
    const ws = parts[1];
    const rel = parts.slice(2).join('/');
    for (const f of folders) if (f.workspace === ws) out.push({ folderIndex: f.index, relPath: rel, uploaded: true });
  }
  for (const f of folders) out.push({ folderIndex: f.index, relPath: path, uploaded: false });
  for (const f of folders) out.push({ folderIndex: f.index, relPath: `library/${path}`, uploaded: false });
  return out;
}

/** The library path a workspace file has: its place in the server's repo, or where an upload puts it. */
export function libraryPathOf(workspace: string, relPath: string): string {
  const rel = toPosix(relPath);
  return rel.startsWith('library/') ? rel.slice('library/'.length) : uploadedLibraryPath(workspace, rel);
}
