# POPLAR_SANITIZE=ON builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# (the asan-ubsan preset). Tests must pass under it.
option(POPLAR_SANITIZE "Build with ASan + UBSan" OFF)
if(POPLAR_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
