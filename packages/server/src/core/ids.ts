import { randomBytes, randomUUID } from 'node:crypto';

/** 32 lowercase hex characters: the id format Comet clients expect for keys and ids. */
export function newHexId(): string {
  return randomBytes(16).toString('hex');
}

export function newUuid(): string {
  return randomUUID();
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * API key secrets: 40 alphanumerics (~238 bits). Alphanumeric because some clients put keys in
 * config files and URLs unescaped.
 */
export function newApiKeySecret(): string {
  let out = '';
  while (out.length < 40) {
    for (const byte of randomBytes(48)) {
      // Rejection sampling keeps every character equally likely (248 = 4 × 62).
      if (byte < 248 && out.length < 40) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
    }
  }
  return out;
}
