{
  "targets": [
    {
      "target_name": "prefdyn_native",
      "sources": [
        "src/tensor/kernels/native/c/addon.c",
        "src/tensor/kernels/native/c/gemm.c",
        "src/tensor/kernels/native/c/bf16gemm.c",
        "src/tensor/kernels/native/c/pool.c",
        "src/tensor/kernels/native/c/norm.c",
        "src/tensor/kernels/native/c/activation.c",
        "src/tensor/kernels/native/c/softmax.c",
        "src/tensor/kernels/native/c/adamw.c"
      ],
      "cflags": ["-O3", "-std=c11", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra"],
      "libraries": ["-lopenblas", "-lm"]
    }
  ]
}
