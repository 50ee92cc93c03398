%% The run-time FFI suites' libraries and shared helpers (nocopy_ffi_test_lib).
-define(LIBZ, "libz.so.1").
-define(LIBC, "libc.so.6").
-define(LIBM, "libm.so.6").

%% stdio's FILE * and DIR * functions, and zlib's two checksums.
-define(STDIO, "typedef struct _IO_FILE FILE; typedef struct __dirstream DIR;"
                "FILE *fopen(const char *path, const char *mode); int fclose(FILE *stream);"
                "size_t fwrite(const void *ptr, size_t size, size_t nmemb, FILE *stream);"
                "int closedir(DIR *dirp);").
-define(ZSUMS, "typedef unsigned long uLong; typedef unsigned char Bytef;"
               "uLong crc32(uLong crc, const Bytef *buf, unsigned int len);"
               "uLong adler32(uLong adler, const Bytef *buf, unsigned int len);").

-import(nocopy_ffi_test_lib, [bind/2, bind/3, data/1, tmp_file/1, arg_error/1, ok/1,
                              iso_error/1, open_error/1]).
