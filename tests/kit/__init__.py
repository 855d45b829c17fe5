"""What the per-stage test kits share: a stage run in-process (:mod:`tests.kit.stage`), Kafka
in and out (:mod:`tests.kit.topics`) and the payloads several stages' tests build
(:mod:`tests.kit.payloads`)."""
