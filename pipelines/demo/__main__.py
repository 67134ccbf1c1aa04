"""`python -m pipelines.demo` writes the sample week (data/samples/) for upload demos."""

from pipelines.demo import write_sample

print(write_sample())
