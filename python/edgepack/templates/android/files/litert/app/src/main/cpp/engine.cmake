# LiteRT: libLiteRt.so arrives with the Maven AAR (com.google.ai.edge.litert:litert) and is opened with
# dlopen at run time by edgepack's engine (cpp/src/engines/litert.cpp), so there is nothing to link here.
target_sources(edgepack_jni PRIVATE engine_litert.cpp)
