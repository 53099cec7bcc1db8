# The experiment file's parser (ExperimentConfig and its sections): torch-free, one library that
# the CLI and the fuzz targets both link (the fuzz build has no LibTorch and no experiments/).
add_library(paretonas_config STATIC
  ${CMAKE_CURRENT_LIST_DIR}/experiment_config.cpp ${CMAKE_CURRENT_LIST_DIR}/config_fields.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_data.cpp ${CMAKE_CURRENT_LIST_DIR}/config_training.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_deploy.cpp ${CMAKE_CURRENT_LIST_DIR}/config_search.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_evaluator.cpp ${CMAKE_CURRENT_LIST_DIR}/config_yaml.cpp)
target_link_libraries(paretonas_config PUBLIC paretonas_search paretonas_evaluator_core yaml-cpp)
