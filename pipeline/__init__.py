"""The munit-tf TFX pipeline: configs, the pipeline factory, our components and the runners."""
