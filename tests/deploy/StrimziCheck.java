// Checks Strimzi custom resources (Kafka, KafkaNodePool, KafkaTopic) against Strimzi's own model
// classes (io.strimzi:api from Maven Central), since no JSON schema of them ships in a registry
// package: each resource is read into its class as the operator reads it, so a wrong type or an
// unknown enum value fails, and every field the model does not know (kept aside by the model's
// UnknownPropertyPreserving) is reported. Run by tests/deploy/test_k8s.py:
//   java -cp '<cache>/strimzi-api-<version>/lib/*' StrimziCheck.java < manifests.yaml
// Prints one line per Strimzi resource (OK or INVALID with the reasons); exits 1 if any is invalid.

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.strimzi.api.kafka.model.common.UnknownPropertyPreserving;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

public class StrimziCheck {
    private static final Map<String, Class<?>> KINDS =
            Map.of("Kafka", Kafka.class, "KafkaNodePool", KafkaNodePool.class, "KafkaTopic", KafkaTopic.class);

    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        List<JsonNode> documents = mapper.readerFor(JsonNode.class).<JsonNode>readValues(System.in).readAll();
        boolean invalid = false;
        for (JsonNode document : documents) {
            if (document == null || !document.path("apiVersion").asText().startsWith("kafka.strimzi.io/")) {
                continue;
            }
            String kind = document.path("kind").asText();
            String name = kind + "/" + document.path("metadata").path("name").asText();
            Class<?> type = KINDS.get(kind);
            List<String> problems = new ArrayList<>();
            if (type == null) {
                problems.add("kind not checked here");
            } else {
                try {
                    unknownFields(mapper.treeToValue(document, type), "", problems, new IdentityHashMap<>());
                } catch (Exception error) {
                    problems.add(error.getMessage().split("\n")[0]);
                }
            }
            invalid |= !problems.isEmpty();
            System.out.println((problems.isEmpty() ? "OK " : "INVALID ") + name
                    + (problems.isEmpty() ? "" : ": " + String.join("; ", problems)));
        }
        System.exit(invalid ? 1 : 0);
    }

    /** Walks the model's getters and lists every field the model kept aside as unknown. */
    private static void unknownFields(Object value, String path, List<String> problems,
                                      IdentityHashMap<Object, Boolean> seen) throws Exception {
        if (value == null || seen.put(value, Boolean.TRUE) != null) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int index = 0;
            for (Object item : items) {
                if (item == null) { // an enum value the model does not know reads as null
                    problems.add("unknown value at " + path + "/" + index);
                }
                unknownFields(item, path + "/" + index++, problems, seen);
            }
            return;
        }
        if (!value.getClass().getName().startsWith("io.strimzi.")) {
            return; // Kubernetes' own types (metadata) and free-form maps (config)
        }
        if (value instanceof UnknownPropertyPreserving preserving
                && preserving.getAdditionalProperties() != null) {
            for (String field : preserving.getAdditionalProperties().keySet()) {
                problems.add("unknown field " + path + "/" + field);
            }
        }
        for (Method getter : value.getClass().getMethods()) {
            String getterName = getter.getName();
            if (getter.getParameterCount() == 0 && !Modifier.isStatic(getter.getModifiers())
                    && getterName.startsWith("get") && !getterName.equals("getClass")
                    && !getterName.equals("getAdditionalProperties")) {
                String field = Character.toLowerCase(getterName.charAt(3)) + getterName.substring(4);
                unknownFields(getter.invoke(value), path + "/" + field, problems, seen);
            }
        }
    }
}
