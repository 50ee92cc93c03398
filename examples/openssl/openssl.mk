# examples/openssl/openssl.mk: nc_crypto, an OpenSSL 3 binding (digests, HMAC,
# AEAD) built like any nocopy module. Included by the top-level Makefile
# (include $(wildcard examples/*/*.mk)).
#
#   make                    builds $(BUILD)/nc_crypto: priv/nc_crypto_nif.so,
#                           nc_crypto_drv.so, ebin/nc_crypto.beam, nc_crypto_drv.beam
# See examples/openssl/README.md.

NC_CRYPTO_OUT := $(BUILD)/nc_crypto
$(eval $(call nocopy_module,nc_crypto,examples/openssl/nc_crypto.c,-lcrypto,$(NC_CRYPTO_OUT)))
EXAMPLE_TARGETS += nc_crypto_all
EXAMPLE_EBINS += $(NC_CRYPTO_OUT)/ebin
