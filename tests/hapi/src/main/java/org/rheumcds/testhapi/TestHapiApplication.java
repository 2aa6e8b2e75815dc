package org.rheumcds.testhapi;

import ca.uhn.fhir.rest.server.RestfulServer;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/**
 * Entry point of the test FHIR server: a Spring Boot application that serves HAPI's JPA
 * {@link RestfulServer} at {@code /fhir/*}. Started by tests/fixtures/hapi.py with
 * {@code java -jar target/rheum-cds-test-hapi.jar --server.port=N}.
 */
@SpringBootApplication
@Import(HapiServerConfig.class)
public class TestHapiApplication {

	public static void main(String[] args) {
		SpringApplication.run(TestHapiApplication.class, args);
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer restfulServer) {
		ServletRegistrationBean<RestfulServer> registration =
				new ServletRegistrationBean<>(restfulServer, "/fhir/*");
		registration.setName("fhir");
		registration.setLoadOnStartup(1);
		return registration;
	}
}
