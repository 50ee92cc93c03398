%% nocopy_bench.hrl: constants the benchmark's modules share.

-define(QOP, 1).                 % the seed call's QOP argument
-define(KiB, 1024).
-define(MiB, 1048576).
-define(WORKLOADS, [identity, seed, seed_calls, iodata]).

%% The contenders measured under concurrency, nocopy's each before its
%% hand-written baseline.
-define(CONC_IDS, [nc_nif, hand_nif, nc_nif_dirty, hand_nif_dirty,
                   nc_drv, hand_drv, nc_drv_async, hand_drv_async]).
