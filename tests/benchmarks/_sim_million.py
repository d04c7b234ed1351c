"""Run by test_bench_simulation in its own process, so that peak memory is its own."""

from __future__ import annotations

import json
import resource
import sys
import time

from simulation import Campaign, CommunityMarketModel, SimulationParams
from tests.simulation.cities import city

if __name__ == "__main__":
    residents = int(sys.argv[1])
    params = SimulationParams(weeks=52, max_agents=residents, campaigns=(
        Campaign("social_media", 2e6, (1, 12), ("18-35",)), Campaign("sms", 5e5, (20, 30))))
    start = time.perf_counter()
    model = CommunityMarketModel(city(residents // 2000, 2000), params, seed=1)
    built = time.perf_counter() - start
    start = time.perf_counter()
    model.run()
    ran = time.perf_counter() - start
    print(json.dumps({"residents": len(model.residents), "build_s": built, "run_s": ran,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
