declare module "parse-prometheus-text-format" {
  /** Parses Prometheus text exposition into metric families (values stay strings). */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
