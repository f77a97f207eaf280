# node-gyp build of the heap guard (heap-guard.cc), run by scripts/build-native.mjs against the headers of the Node.js isohttpd runs on.
{
  "targets": [
    {
      "target_name": "heap_guard",
      "sources": ["heap-guard.cc"],
      "cflags_cc": ["-Wall", "-Wextra", "-Werror"]
    }
  ]
}
