{
  "targets": [{
    "target_name": "earmark",
    "sources": ["src/addon.cc", "src/handle.cc", "src/args.cc", "src/dispatch.cc", "src/tensor.cc",
                "src/autograd.cc", "src/cpu_allocator.cc", "src/device.cc", "src/c10d.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(node libtorch.cjs include)"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node libtorch.cjs defines)"],
    "libraries": ["<!@(node libtorch.cjs libs)"],
    "cflags!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
  }]
}
