// The server's JSON API. Same origin only; the token (when the server has one) travels as the
// HttpOnly cookie set by opening /?token=…, so scripts never see it.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorFrom(res) {
  try {
    const body = await res.json();
    if (body && body.error) return new ApiError(res.status, body.error.code, body.error.message);
  } catch { /* not JSON */ }
  return new ApiError(res.status, 'http', `${res.status} ${res.statusText}`);
}

export async function getJson(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!res.ok) throw await errorFrom(res);
  return res.json();
}

let configPromise = null;
export function config() {
  configPromise ??= getJson('/api/config').catch((e) => { configPromise = null; throw e; });
  return configPromise;
}

const docs = new Map();
/** The analysis document of one capture (what `faultline analyze --json` prints), cached. */
export function captureDocument(id) {
  if (!docs.has(id)) docs.set(id, getJson(`/api/captures/${encodeURIComponent(id)}`).catch((e) => { docs.delete(id); throw e; }));
  return docs.get(id);
}

export function forgetCapture(id) {
  docs.delete(String(id));
}

/**
 * Sends one file as the request body. XMLHttpRequest rather than fetch: it reports upload
 * progress. Resolves with the job the server created; rejects with ApiError.
 */
export function uploadFile(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/uploads?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onload = () => {
      const body = xhr.response;
      if (xhr.status === 202 && body && body.job) resolve(body.job);
      else if (body && body.error) reject(new ApiError(xhr.status, body.error.code, body.error.message));
      else reject(new ApiError(xhr.status, 'http', `upload failed (${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload was cut off (server unreachable, or it refused the file mid-way)'));
    xhr.send(file);
  });
}

/** Polls a job until it ends; onUpdate sees every state. */
export async function followJob(id, onUpdate, intervalMs = 250) {
  for (;;) {
    const { job } = await getJson(`/api/jobs/${encodeURIComponent(id)}`);
    onUpdate(job);
    if (job.state === 'done' || job.state === 'failed') return job;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
