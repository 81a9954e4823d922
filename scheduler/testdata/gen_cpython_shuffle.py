# Regenerates cpython_shuffle.json: python3 gen_cpython_shuffle.py > cpython_shuffle.json
import random, hashlib, json, sys
out = {}
for name in ["mgr", "alertmanager", "nfs.mynfs", "prometheus", "rgw", "", "crash", "x"*100]:
    seed = int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2**32
    res = {}
    for n in [0, 1, 2, 3, 5, 17, 100, 1000]:
        l = list(range(n))
        random.Random(seed).shuffle(l)
        res[n] = l
    out[name] = {"seed": seed, "perms": res}
json.dump(out, sys.stdout)
