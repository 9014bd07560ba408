export { WebshareHost, ApacheMode, HOST_KEY_INSECURE_ACCEPT_ANY } from "./webshare-host";
export type { WebshareHostProps, HostLayout, ResolvedLayout, SelfManagedApacheOptions, LifecycleResource, JumpHost } from "./webshare-host";
export { WsgiApp } from "./wsgi-app";
export type { WsgiAppProps, DaemonOptions, HealthCheckOptions, DescriptorOptions } from "./wsgi-app";
export type { DatabaseYmlOptions, DatabaseYmlSource } from "../lib/database-yml";
export type { SecretFileSource } from "../lib/secrets";
export { Venv } from "./venv";
export type { VenvProps } from "./venv";
