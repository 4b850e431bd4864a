import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Wraps and unwraps data keys with a master key the provider holds (file, environment, or a KMS
 * behind the same interface). `id` names the master key so rows record which one wrapped them.
 */
export type KeyProvider = {
  id: string;
  wrap(key: Buffer): Promise<Buffer>;
  unwrap(wrapped: Buffer): Promise<Buffer>;
};

export class KeyProviderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyProviderError";
  }
}

const WRAP_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAP_AAD = Buffer.from("custos:key-wrap:v1");

/** AES-256-GCM key wrapping: [version 1][iv 12][tag 16][wrapped key]. */
export function localKeyProvider(masterKey: Buffer, idPrefix: string): KeyProvider {
  if (masterKey.length !== 32) {
    throw new KeyProviderError(
      `the master key must be 32 bytes (base64 of 32 random bytes); got ${masterKey.length}`,
    );
  }
  const key = Buffer.from(masterKey);
  // A fingerprint, not the key: lets rows record which master key wrapped them.
  const fingerprint = createHmac("sha256", key).update("custos:master-key-id").digest("hex").slice(0, 16);
  return {
    id: `${idPrefix}:${fingerprint}`,
    async wrap(dataKey: Buffer): Promise<Buffer> {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(WRAP_AAD);
      const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
      return Buffer.concat([Buffer.from([WRAP_VERSION]), iv, cipher.getAuthTag(), body]);
    },
    async unwrap(wrapped: Buffer): Promise<Buffer> {
      if (wrapped.length < 1 + IV_BYTES + TAG_BYTES || wrapped[0] !== WRAP_VERSION) {
        throw new KeyProviderError("a wrapped key has an unknown format");
      }
      const iv = wrapped.subarray(1, 1 + IV_BYTES);
      const tag = wrapped.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAAD(WRAP_AAD);
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(wrapped.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
      } catch {
        throw new KeyProviderError("a wrapped key could not be unwrapped: wrong master key or damaged data");
      }
    },
  };
}

function decodeMasterKey(base64: string, where: string): Buffer {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new KeyProviderError(
      `${where} must hold a base64 master key (32 random bytes, e.g. \`openssl rand -base64 32\`)`,
    );
  }
  const key = Buffer.from(text, "base64");
  if (key.length !== 32) {
    throw new KeyProviderError(`${where} must decode to 32 bytes; it decodes to ${key.length}`);
  }
  return key;
}

/**
 * A master key kept base64 in a file, created (mode 0600) with a fresh random key when missing.
 * Reads the file once, synchronously, at start-up.
 */
export function fileKeyProvider(path: string): KeyProvider {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    mkdirSync(dirname(path), { recursive: true });
    const fresh = `${randomBytes(32).toString("base64")}\n`;
    try {
      writeFileSync(path, fresh, { mode: 0o600, flag: "wx" });
      chmodSync(path, 0o600);
      text = fresh;
    } catch (writeErr) {
      // Another process created it first: use theirs.
      if ((writeErr as NodeJS.ErrnoException).code !== "EEXIST") throw writeErr;
      text = readFileSync(path, "utf8");
    }
  }
  return localKeyProvider(decodeMasterKey(text, "the master key file"), "file");
}

/** A master key given as base64 (e.g. from an environment variable the config read). */
export function envKeyProvider(base64: string): KeyProvider {
  return localKeyProvider(decodeMasterKey(base64, "the master key"), "env");
}
