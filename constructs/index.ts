export { WebshareHost, ApacheMode, HOST_KEY_INSECURE_ACCEPT_ANY } from "./webshare-host";
export type { WebshareHostProps, HostLayout, SelfManagedApacheOptions, LifecycleResource, JumpHost } from "./webshare-host";
export { WsgiApp } from "./wsgi-app";
export type { WsgiAppProps, DaemonOptions, HealthCheckOptions } from "./wsgi-app";
export { Venv } from "./venv";
export type { VenvProps } from "./venv";
