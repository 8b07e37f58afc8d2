"""The benchmark behind ``iddt-bot bench`` (see ``benchmarks/README.md``)."""
