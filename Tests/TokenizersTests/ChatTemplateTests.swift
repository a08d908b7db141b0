import Testing
import Tokenizers

/// The formats as the models' Jinja templates render them (SmolLM2's is also checked against transformers
/// in FixtureTests).
@Suite struct ChatTemplateTests {
    let qa: [ChatMessage] = [.system("Be brief."), .user("What is anemia?"), .assistant("Low hemoglobin.")]

    @Test func chatmlWithAndWithoutDefaultSystemPrompt() {
        let smol = ChatTemplate.named("smollm2")!
        #expect(smol.apply(messages: [.user("Hi")], addGenerationPrompt: true) ==
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        #expect(smol.apply(messages: qa, addGenerationPrompt: false) ==
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is anemia?<|im_end|>\n"
            + "<|im_start|>assistant\nLow hemoglobin.<|im_end|>\n")
        #expect(ChatTemplate.named("chatml")!.prompt(question: "Hi") == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func llama3Headers() {
        #expect(ChatTemplate.named("llama3")!.apply(messages: qa, addGenerationPrompt: false) ==
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nWhat is anemia?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nLow hemoglobin.<|eot_id|>")
        // Llama-3.1/3.2 always open with the dated system block; contents are trimmed.
        #expect(ChatTemplate.named("llama3.2")!.apply(messages: [.user("  Hi \n")], addGenerationPrompt: true) ==
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
            + "Today Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n")
    }

    @Test func zephyrAndLlama2() {
        #expect(ChatTemplate.zephyr.apply(messages: qa, addGenerationPrompt: false) ==
            "<|system|>\nBe brief.</s>\n<|user|>\nWhat is anemia?</s>\n<|assistant|>\nLow hemoglobin.</s>\n")
        #expect(ChatTemplate.zephyr.prompt(question: "Hi") == "<|user|>\nHi</s>\n<|assistant|>\n")
        #expect(ChatTemplate.llama2.apply(messages: qa, addGenerationPrompt: false) ==
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWhat is anemia? [/INST] Low hemoglobin. </s>")
    }

    @Test func rawTemplateFromTheNotebook() {
        let t = ChatTemplate.notebookLlama3
        #expect(t.prompt(question: "Q?") ==
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        #expect(t.text(question: "Q?", answer: "A.") ==
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA.<|eot_id|>")
        // A question that itself says "{answer}" is left as written.
        #expect(ChatTemplate.raw("Q: {question}\nA: {answer}").text(question: "what is {answer}?", answer: "x") ==
            "Q: what is {answer}?\nA: x")
    }

    @Test func detectionByMarkers() {
        let smolJinja = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
        #expect(ChatTemplate.detect(jinja: smolJinja) == .named("smollm2"))
        let escaped = "{{ '<|im_start|>system\\nYou are Qwen.<|im_end|>\\n' }}{{ '<|im_start|>' + message['role'] }}"
        #expect(ChatTemplate.detect(jinja: escaped) == .chatml(defaultSystemPrompt: "You are Qwen."))
        #expect(ChatTemplate.detect(jinja: "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}") == .llama3(todayDate: nil))
        #expect(ChatTemplate.detect(jinja: "{{- \"Cutting Knowledge Date: December 2023\\n\" }}<|start_header_id|>") == .named("llama3.1"))
        #expect(ChatTemplate.detect(jinja: "{{ '<|user|>\n' + message['content'] + eos_token }}{{ '<|assistant|>' }}") == .zephyr)
        #expect(ChatTemplate.detect(jinja: "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}") == .llama2)
        #expect(ChatTemplate.detect(jinja: "{{ messages }}") == nil)
        #expect(ChatTemplate.named("unknown") == nil)
    }
}
