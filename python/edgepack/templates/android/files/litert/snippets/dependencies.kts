    // brings libLiteRt.so for each ABI; edgepack's native layer opens it with dlopen (LiteRT's C API)
    implementation(libs.litert)
