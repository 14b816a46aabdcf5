"""The one toolchain a generated Android project pins (docs/android.md gives the reasons and sources).

AGP 9 line: built-in Kotlin (no org.jetbrains.kotlin.android plugin), needs Android Studio Otter 3 Feature Drop
/ Panda or newer. Each pin is a released version named in its project's release notes (see docs/android.md);
the static checks in tests/templates/test_android_project.py hold the generated files to the minimums below."""

from __future__ import annotations

AGP = "9.3.1"
GRADLE = "9.5.0"  # AGP 9.3's minimum Gradle
COMPILE_SDK = 36
TARGET_SDK = 36  # Play requires targetSdk 36 for uploads from 31 Aug 2026
MIN_SDK = 24  # LiteRT 2.3 needs 23, ncnn's Android builds 24
NDK = "28.2.13676358"  # AGP 9's default NDK; r28 links 16 KB-aligned by default
CMAKE = "3.22.1"  # the SDK's CMake package AGP uses by default
JAVA = 17
CAMERAX = "1.6.1"
ACTIVITY = "1.12.4"
LITERT = "2.3.2"
NCNN = "20260526"  # Tencent/ncnn release tag of the Android prebuilts
ABIS = ("arm64-v8a", "x86_64")  # phones, and the emulator; LiteRT 2.x dropped 32-bit ARM in practice (LiteRT#3729)

# minimum Gradle per AGP minor (AGP release notes), for the static check
AGP_MIN_GRADLE = {"8.13": "8.13", "9.0": "9.1.0", "9.1": "9.2.1", "9.3": "9.5.0"}

# model file extensions the APK must store uncompressed
NO_COMPRESS = ("bin", "mnn", "param", "tflite")
