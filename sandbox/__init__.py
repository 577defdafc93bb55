"""Local stand-ins for the two upstream services (TiParser and CaseHelper).

They speak the contracts in upstream-apis.md so the pipeline, tests, the integration script
and the benchmarks never need the hosted services. Data is generated deterministically per
case id (sandbox.data); faults and drifted payload shapes are chosen per case id from one
table (sandbox.data.BEHAVIOURS). See sandbox/README.md.
"""
