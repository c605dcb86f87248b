"""Config, plan, Ray execution, shard writer, manifest, CLI, reports and exporters."""
