%% nocopy_wire.hrl: the driver wire format's constants (docs/wire-format.md),
%% for nocopy_wire. Their C twins are in c_src/wire/nc_wire.h; every driver
%% test sends requests made here to a driver decoding them there.

-define(NC_WIRE_MAGIC, "nc").
-define(NC_WIRE_VERSION, 5).

%% The fixed header: magic, version, module, function, argument count. The
%% kinds (the tag's, then each argument's) follow it.
-define(NC_WIRE_HEADER_BYTES, 15).

%% Integers the emulator keeps small (immediate) on 64-bit machines: guards on
%% this range cost no bignum comparison, in the encoders and the receive.
-define(NC_SMALL_MIN, -16#800000000000000).
-define(NC_SMALL_MAX, 16#7ffffffffffffff).

%% The "j" kind: integers the encoders send as 32 bits.
-define(NC_I32_MIN, -16#80000000).
-define(NC_I32_MAX, 16#7fffffff).

-define(NC_I64_MIN, -16#8000000000000000).
-define(NC_I64_MAX, 16#7fffffffffffffff).
-define(NC_U64_MAX, 16#ffffffffffffffff).
