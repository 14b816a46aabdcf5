# Vulkan compute for edgepack_core (included by cpp/CMakeLists.txt after edgepack_core is defined).
#
# Needs the Vulkan headers (Debian libvulkan-dev; only the headers: libvulkan is dlopen'ed at run time)
# and glslangValidator (Debian glslang-tools) to compile shaders/*.comp to SPIR-V, which is embedded
# into the library as byte arrays. If either is missing the core is built without Vulkan
# (src/vulkan/off/vulkan_off.cpp reports "not built" at run time): a missing SDK never fails the build.

set(_vk_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_vk_enabled OFF)
if(NOT EDGEPACK_VULKAN)
  message(STATUS "edgepack: building without Vulkan: EDGEPACK_VULKAN=OFF")
else()
  find_path(EDGEPACK_VULKAN_INCLUDE_DIR vulkan/vulkan.h HINTS ENV VULKAN_SDK PATH_SUFFIXES include)
  find_program(EDGEPACK_GLSLANG glslangValidator HINTS ENV VULKAN_SDK PATH_SUFFIXES bin)
  if(EDGEPACK_VULKAN_INCLUDE_DIR AND EDGEPACK_GLSLANG)
    set(_vk_enabled ON)
  else()
    set(_vk_missing "")
    if(NOT EDGEPACK_VULKAN_INCLUDE_DIR)
      list(APPEND _vk_missing "Vulkan headers (Debian: libvulkan-dev)")
    endif()
    if(NOT EDGEPACK_GLSLANG)
      list(APPEND _vk_missing "glslangValidator (Debian: glslang-tools)")
    endif()
    string(REPLACE ";" " and " _vk_missing "${_vk_missing}")
    message(STATUS "edgepack: building without Vulkan: ${_vk_missing} not found")
  endif()
endif()

if(NOT _vk_enabled)
  target_sources(edgepack_core PRIVATE "${_vk_dir}/off/vulkan_off.cpp" "${_vk_dir}/dispatch.cpp")
  target_include_directories(edgepack_core PRIVATE "${_vk_dir}")
  return()
endif()

file(GLOB _vk_sources CONFIGURE_DEPENDS "${_vk_dir}/*.cpp")
file(GLOB _vk_shaders CONFIGURE_DEPENDS "${_vk_dir}/shaders/*.comp")
set(_vk_gen "${CMAKE_CURRENT_BINARY_DIR}/vulkan_shaders")
set(_vk_spv "")
foreach(_shader ${_vk_shaders})
  get_filename_component(_name "${_shader}" NAME_WE)
  set(_out "${_vk_gen}/${_name}.spv")
  add_custom_command(
    OUTPUT "${_out}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_vk_gen}"
    COMMAND "${EDGEPACK_GLSLANG}" -V --target-env vulkan1.0 -o "${_out}" "${_shader}"
    DEPENDS "${_shader}"
    COMMENT "glslangValidator ${_name}.comp"
    VERBATIM)
  list(APPEND _vk_spv "${_out}")
endforeach()
set(_vk_embedded "${_vk_gen}/embedded_shaders.cpp")
add_custom_command(
  OUTPUT "${_vk_embedded}"
  COMMAND "${CMAKE_COMMAND}" "-DOUT=${_vk_embedded}" "-DINPUTS=${_vk_spv}" -P "${_vk_dir}/embed_spirv.cmake"
  DEPENDS ${_vk_spv} "${_vk_dir}/embed_spirv.cmake"
  COMMENT "embedding SPIR-V"
  VERBATIM)

target_sources(edgepack_core PRIVATE ${_vk_sources} "${_vk_embedded}")
target_include_directories(edgepack_core PRIVATE "${EDGEPACK_VULKAN_INCLUDE_DIR}" "${_vk_dir}")
target_compile_definitions(edgepack_core PRIVATE EDGEPACK_WITH_VULKAN=1)
target_link_libraries(edgepack_core PRIVATE ${CMAKE_DL_LIBS})
list(LENGTH _vk_shaders _vk_count)
message(STATUS "edgepack: Vulkan compute on (${_vk_count} shader(s), ${EDGEPACK_GLSLANG})")
