# XB_SANITIZE=address,undefined applies the sanitizers to every target in the build.
if(XB_SANITIZE)
    add_compile_options(-fsanitize=${XB_SANITIZE} -fno-omit-frame-pointer
        -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${XB_SANITIZE})
endif()
