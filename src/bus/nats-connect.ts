import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../config/schema.ts";

type NatsAuth = Pick<Config["nats"], "user" | "password" | "token" | "credentials_file" | "tls">;

/** The servers could not be reached, or refused the credentials; the message names them. */
export class NatsConnectError extends Error {
  override readonly name = "NatsConnectError";
}

/**
 * Client options for the engine's NATS connections (the supervisor's and every batch worker's):
 * the cluster's servers, the one kind of authentication the config gives, and TLS. A
 * credentials file is read again at every (re)connect, so a rotated file takes effect without a
 * restart; an unreadable one is named at start.
 */
export function natsConnectOptions(cfg: NatsAuth, servers: readonly string[], name: string): ConnectionOptions {
  const options: ConnectionOptions = { servers: [...servers], name, maxReconnectAttempts: -1, reconnectTimeWait: 500 };
  if (cfg.user !== "") {
    options.user = cfg.user;
    options.pass = cfg.password;
  }
  if (cfg.token !== "") options.token = cfg.token;
  if (cfg.credentials_file !== "") {
    const path = cfg.credentials_file;
    try {
      readFileSync(path);
    } catch (cause) {
      throw new NatsConnectError(`nats.credentials_file ${path} cannot be read: ${(cause as Error).message}`, { cause });
    }
    options.authenticator = credsAuthenticator(() => readFileSync(path));
  }
  const { ca_file, cert_file, key_file } = cfg.tls;
  if (ca_file !== "" || cert_file !== "") {
    options.tls = {
      ...(ca_file === "" ? {} : { caFile: ca_file }),
      ...(cert_file === "" ? {} : { certFile: cert_file, keyFile: key_file }),
    };
  }
  return options;
}

/**
 * Connects for the first time, when a failure is final: a refused credential or no server
 * reachable stops the start, naming the servers tried and the server's own message
 * (`Authorization Violation`, a TLS error).
 */
export async function connectNats(cfg: NatsAuth, servers: readonly string[], name: string, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const options = { ...natsConnectOptions(cfg, servers, name), ...extra };
  try {
    return await connect(options);
  } catch (cause) {
    throw new NatsConnectError(`cannot connect to NATS at ${servers.join(", ")}: ${(cause as Error).message}`, { cause });
  }
}
